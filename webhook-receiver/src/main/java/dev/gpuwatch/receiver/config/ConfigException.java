package dev.gpuwatch.receiver.config;

/** The configuration cannot be used; the message names the file, the field and, where known, the line. */
public final class ConfigException extends Exception {

    public ConfigException(String message) {
        super(message, null, false, false);
    }
}
