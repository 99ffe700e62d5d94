package dev.gpuwatch.exporter.modelserver.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Pod names for the pod UIDs and container ids found in GPU processes' cgroups, from the Kubernetes API:
 * {@code GET /api/v1/pods?fieldSelector=spec.nodeName=<node>} with the pod's service-account token (RBAC: list pods).
 * The list is refreshed in the background; a scrape only reads the last one. Why the API and not the kubelet's
 * pod-resources socket: docs/model-servers.md, "Pods and containers".
 */
public final class KubernetesPods {
    private static final System.Logger LOG = System.getLogger(KubernetesPods.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_BYTES = 64L << 20;

    /** A pod, and its containers' names by container id ({@code runtime://id}). */
    public record Pod(String namespace, String name, Map<String, String> containers) {
        public Pod {
            containers = Map.copyOf(containers);
        }
    }

    private final HttpClient client;
    private final URI podsUri;
    private final Path tokenFile;
    private final AtomicReference<Map<String, Pod>> byUid = new AtomicReference<>(Map.of());
    private volatile boolean lastRefreshFailed;

    public KubernetesPods(HttpClient client, URI apiUrl, String nodeName, Path tokenFile) {
        this.client = client;
        this.podsUri = apiUrl.resolve("/api/v1/pods?fieldSelector="
                + URLEncoder.encode("spec.nodeName=" + nodeName, StandardCharsets.UTF_8));
        this.tokenFile = tokenFile;
    }

    /** An HTTP client that trusts the cluster's CA (the service account's {@code ca.crt}) when one is given. */
    public static HttpClient client(Optional<Path> caFile) throws IOException, GeneralSecurityException {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (caFile.isPresent()) {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            try (InputStream in = Files.newInputStream(caFile.get())) {
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    trust.setCertificateEntry("ca-" + i++, c);
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            b.sslContext(ssl);
        }
        return b.build();
    }

    public Optional<Pod> pod(String uid) {
        return Optional.ofNullable(byUid.get().get(uid));
    }

    /** Reads the node's pods once; on failure the previous list stays. Returns whether it succeeded. */
    public boolean refresh() {
        try {
            String token = Files.readString(tokenFile).strip(); // re-read: projected tokens rotate
            HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(podsUri)
                    .header("Authorization", "Bearer " + token).header("Accept", "application/json")
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = r.body()) {
                if (r.statusCode() != 200) {
                    throw new IOException("HTTP " + r.statusCode());
                }
                byUid.set(parse(JSON.readTree(body.readNBytes((int) MAX_BYTES))));
            }
            if (lastRefreshFailed) {
                LOG.log(System.Logger.Level.INFO, "Kubernetes pod list readable again");
            }
            lastRefreshFailed = false;
            return true;
        } catch (IOException e) {
            if (!lastRefreshFailed) {
                LOG.log(System.Logger.Level.WARNING, "cannot list this node's pods from " + podsUri.getHost()
                        + " (pod and namespace labels stay as they were): " + e.getMessage());
            }
            lastRefreshFailed = true;
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static Map<String, Pod> parse(JsonNode list) {
        Map<String, Pod> out = new HashMap<>();
        for (JsonNode item : list.path("items")) {
            JsonNode meta = item.path("metadata");
            String uid = meta.path("uid").asText("");
            if (uid.isEmpty()) {
                continue;
            }
            Map<String, String> containers = new HashMap<>();
            for (String field : new String[] {"initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"}) {
                for (JsonNode c : item.path("status").path(field)) {
                    String id = c.path("containerID").asText("");
                    if (!id.isEmpty()) {
                        containers.put(id, c.path("name").asText(""));
                    }
                }
            }
            out.put(uid, new Pod(meta.path("namespace").asText(""), meta.path("name").asText(""), containers));
        }
        return Map.copyOf(out);
    }
}
