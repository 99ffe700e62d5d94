package dev.gpuwatch.receiver.runbook;

/**
 * One runbook as served: {@code name} is its file name without {@code .md} (the alert name in lower case),
 * {@code title} its first heading (the alert name), {@code page} the whole HTML page.
 */
public record Runbook(String name, String title, String page) {}
