package dev.gpuwatch.receiver;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * What tests that wait poll: a condition, an HTTP status, and the lines a log sink has written so far.
 */
public final class Polling {
    private Polling() {}

    /** Polls {@code condition} until it holds, for at most 20 s. */
    public static void await(String what, BooleanSupplier condition) throws InterruptedException {
        await(what, Duration.ofSeconds(20), condition);
    }

    /** Polls {@code condition} until it holds, for at most {@code limit}. */
    public static void await(String what, Duration limit, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    /** The status of a GET, or -1 while nothing answers (the process is still starting). */
    public static int status(HttpClient http, URI uri) {
        try {
            return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** The sink's lines, empty until the file exists or while it cannot be read. */
    public static List<String> lines(Path sink) {
        try {
            return Files.exists(sink) ? Files.readAllLines(sink) : List.of();
        } catch (IOException e) {
            return List.of();
        }
    }
}
