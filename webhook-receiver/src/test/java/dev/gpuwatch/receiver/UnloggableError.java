package dev.gpuwatch.receiver;

/**
 * An {@link Error} that fails again as soon as anyone tries to log it, as an {@link OutOfMemoryError} does when
 * not even its log line fits: the one way left to end a loop that survives a single Error, so a test can check
 * that the loop then fails loudly instead of leaving callers waiting.
 */
public final class UnloggableError extends Error {

    public UnloggableError() {
        super(null, null, false, false);
    }

    @Override
    public String toString() {
        throw new UnloggableError();
    }

    @Override
    public String getMessage() {
        throw new UnloggableError();
    }
}
