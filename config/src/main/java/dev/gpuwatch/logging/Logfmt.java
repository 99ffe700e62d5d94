package dev.gpuwatch.logging;

import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The one log format of every gpuwatch binary: one logfmt line per event on stderr, as Prometheus components write
 * them: {@code ts=2026-12-03T10:00:00.123Z level=info logger=sampler msg="sampling 8 GPUs"}. A throwable is one
 * {@code err="..."} field, never a stack trace: expected failures are told in a line, bugs are found by their
 * message and the logger. Libraries that log through SLF4J reach it through {@code slf4j-jdk14}.
 */
public final class Logfmt {
    private Logfmt() {}

    /**
     * The parent of gpuwatch's own loggers. Held here because JUL holds loggers weakly: one collected would forget
     * the level set on it.
     */
    private static final Logger GPUWATCH = Logger.getLogger("dev.gpuwatch");

    /**
     * Sends every log record of the JVM to stderr in logfmt, at {@code level} and above. {@code debug} is for
     * gpuwatch's own loggers: libraries (Jetty, the Slack SDK) stay at info, because their debug output floods the
     * log and carries request URLs and headers, secrets among them (a Slack webhook URL, an Authorization header).
     */
    public static void configure(LogLevel level) {
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        ConsoleHandler handler = new ConsoleHandler();
        handler.setLevel(level.julLevel());
        handler.setFormatter(new LogfmtFormatter());
        root.addHandler(handler);
        Level libraries = level.julLevel().intValue() < Level.INFO.intValue() ? Level.INFO : level.julLevel();
        root.setLevel(libraries);
        GPUWATCH.setLevel(level.julLevel());
    }

    /** A JUL formatter writing one logfmt line per record. */
    public static final class LogfmtFormatter extends Formatter {
        @Override
        public String format(LogRecord r) {
            StringBuilder line = new StringBuilder(128);
            line.append("ts=").append(Instant.ofEpochMilli(r.getMillis()))
                    .append(" level=").append(level(r.getLevel()))
                    .append(" logger=").append(value(shortName(r.getLoggerName())))
                    .append(" msg=").append(quoted(formatMessage(r)));
            if (r.getThrown() != null) {
                line.append(" err=").append(quoted(String.valueOf(r.getThrown())));
            }
            return line.append('\n').toString();
        }
    }

    /** A logfmt value: bare when it can be, else quoted with {@code \"}, {@code \\} and newlines escaped. */
    public static String value(String v) {
        if (v == null || v.isEmpty()) {
            return "\"\"";
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) {
                return quoted(v);
            }
        }
        return v;
    }

    static String quoted(String v) {
        StringBuilder out = new StringBuilder(v.length() + 2).append('"');
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append(c < ' ' ? ' ' : c);
            }
        }
        return out.append('"').toString();
    }

    /** {@code dev.gpuwatch.receiver.dispatch.Dispatcher} → {@code dispatch.Dispatcher}; other loggers as they are. */
    static String shortName(String name) {
        if (name == null || name.isEmpty()) {
            return "root";
        }
        for (String prefix : new String[] {"dev.gpuwatch.receiver.", "dev.gpuwatch.exporter.", "dev.gpuwatch."}) {
            if (name.startsWith(prefix)) {
                return name.substring(prefix.length());
            }
        }
        return name;
    }

    private static String level(Level l) {
        if (l.intValue() >= Level.SEVERE.intValue()) {
            return "error";
        }
        if (l.intValue() >= Level.WARNING.intValue()) {
            return "warn";
        }
        return l.intValue() >= Level.INFO.intValue() ? "info" : "debug";
    }
}
