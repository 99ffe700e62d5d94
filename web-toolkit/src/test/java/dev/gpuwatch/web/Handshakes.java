package dev.gpuwatch.web;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A loopback TLS server set up only from a {@link ServerTls} (its context and {@link ServerTls#parameters()}), so
 * the toolkit's TLS semantics are tested without either product's HTTP server. Each connection that completes the
 * handshake is answered {@code ok}.
 */
final class Handshakes implements AutoCloseable {

    private final SSLServerSocket server;
    private final Thread acceptor;

    Handshakes(ServerTls tls) throws IOException {
        server = (SSLServerSocket) tls.context().getServerSocketFactory()
                .createServerSocket(0, 16, InetAddress.getLoopbackAddress());
        server.setSSLParameters(tls.parameters());
        acceptor = Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try (SSLSocket s = (SSLSocket) server.accept()) {
                    s.setSoTimeout(5000);
                    s.startHandshake();
                    s.getOutputStream().write("ok".getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                } catch (IOException e) {
                    // a refused handshake: the client sees it as an alert or a closed connection
                }
            }
        });
    }

    /**
     * The protocol the client negotiated and was answered over, or empty when the server refused it. A refusal in
     * TLS 1.3 can reach the client only after its own handshake ended, so "ok" must arrive too.
     */
    Optional<String> connect(SSLContext client, String... protocols) {
        try (SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                server.getLocalPort())) {
            s.setSoTimeout(5000);
            if (protocols.length > 0) {
                s.setEnabledProtocols(protocols);
            }
            s.startHandshake();
            InputStream in = s.getInputStream();
            byte[] answer = in.readNBytes(2);
            return new String(answer, StandardCharsets.US_ASCII).equals("ok")
                    ? Optional.of(s.getSession().getProtocol()) : Optional.empty();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the test server did not answer", e);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Like {@link #connect} with the client offering only {@code suite}; answers the suite negotiated. */
    Optional<String> connectWithSuite(SSLContext client, String protocol, String suite) {
        try (SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                server.getLocalPort())) {
            s.setSoTimeout(5000);
            s.setEnabledProtocols(new String[] {protocol});
            s.setEnabledCipherSuites(new String[] {suite});
            s.startHandshake();
            return s.getInputStream().readNBytes(2).length == 2 ? Optional.of(s.getSession().getCipherSuite())
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
