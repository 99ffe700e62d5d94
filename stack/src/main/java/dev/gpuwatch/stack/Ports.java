package dev.gpuwatch.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * Loopback ports of every part of the stack.
 *
 * @param slack the local Slack Web API server (its {@code GET /} shows what was delivered)
 * @param pagerDuty the local PagerDuty Events API v2 server (its {@code GET /} shows incidents)
 * @param modelServer the simulated vLLM-shaped model server the exporter polls
 */
public record Ports(int exporter, int receiver, int prometheus, int alertmanager, int slack, int pagerDuty,
        int modelServer) {

    /** The demo's fixed ports: the parts' usual ports, local Slack and PagerDuty next to the receiver. */
    public static Ports defaults() {
        return new Ports(9445, 9095, 9090, 9093, 9101, 9102, 8000);
    }

    /** Ports that were free a moment ago, for tests that run beside anything else. */
    public static Ports free() {
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 7; i++) {
                ServerSocket s = new ServerSocket();
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                held.add(s);
            }
            return new Ports(held.get(0).getLocalPort(), held.get(1).getLocalPort(), held.get(2).getLocalPort(),
                    held.get(3).getLocalPort(), held.get(4).getLocalPort(), held.get(5).getLocalPort(),
                    held.get(6).getLocalPort());
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        } finally {
            for (ServerSocket s : held) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing a socket that was only bound cannot lose anything
                }
            }
        }
    }

    /** Fails with the first port something already listens on, naming the part, so the user knows what to move. */
    void checkFree() throws StackException {
        int[] ports = {exporter, receiver, prometheus, alertmanager, slack, pagerDuty, modelServer};
        String[] names = {"exporter", "receiver", "prometheus", "alertmanager", "slack", "pagerduty", "model-server"};
        for (int i = 0; i < ports.length; i++) {
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), ports[i]));
            } catch (IOException e) {
                throw new StackException("port " + ports[i] + " for the " + names[i]
                        + " is already in use; stop what listens there or pick another with --port." + names[i]);
            }
        }
    }
}
