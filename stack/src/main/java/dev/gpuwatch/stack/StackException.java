package dev.gpuwatch.stack;

/** The stack could not start (a port in use, a binary missing, a part not ready in time); the message says what. */
public final class StackException extends Exception {

    public StackException(String message) {
        super(message);
    }
}
