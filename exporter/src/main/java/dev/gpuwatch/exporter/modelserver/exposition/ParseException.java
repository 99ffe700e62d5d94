package dev.gpuwatch.exporter.modelserver.exposition;

/** A body that is not what it claims to be: not the text format, or JSON of the wrong shape. */
public final class ParseException extends Exception {
    public ParseException(int line, String problem) {
        super(line > 0 ? "line " + line + ": " + problem : problem);
    }

    public ParseException(String problem) {
        this(0, problem);
    }
}
