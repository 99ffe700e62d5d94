package dev.gpuwatch.exporter.modelserver.discovery;

/** A listening TCP port of a process, with the address the exporter can reach it at. */
public record Endpoint(String host, int port) {
    /** {@code host:port}, IPv6 hosts in brackets, for URLs. */
    public String authority() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
