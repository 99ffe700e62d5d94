package dev.gpuwatch.web;

import java.util.Optional;

/**
 * {@code http_server_config}. {@code http2} is accepted so toolkit files load, and has no effect: both servers speak
 * HTTP/1.1, which every Prometheus and Alertmanager falls back to.
 */
record HttpServerConfig(Optional<Boolean> http2, Optional<Object> headers) {

    HttpServerConfig {
        WebConfigFile.refuse("headers", headers, "not supported by gpuwatch");
    }
}
