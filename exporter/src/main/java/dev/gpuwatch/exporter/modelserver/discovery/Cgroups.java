package dev.gpuwatch.exporter.modelserver.discovery;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the container id and pod UID from {@code /proc/<pid>/cgroup}, cgroup v1 ({@code 12:memory:/...}) or v2
 * ({@code 0::/...}), for the layouts of the common runtimes and both kubelet cgroup drivers:
 * <ul>
 *   <li>systemd driver: {@code kubepods-burstable-pod<uid with _>.slice/cri-containerd-<id>.scope},
 *       {@code crio-<id>.scope}, {@code docker-<id>.scope}</li>
 *   <li>cgroupfs driver: {@code /kubepods/burstable/pod<uid>/<id>}</li>
 *   <li>plain Docker ({@code /docker/<id>}), Podman ({@code libpod-<id>.scope})</li>
 * </ul>
 * A {@code crio-conmon-<id>} path is CRI-O's monitor process, not the container: no container id.
 */
public final class Cgroups {
    private static final Pattern POD = Pattern.compile("pod([0-9a-fA-F]{8}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{12})");
    private static final Pattern SCOPED = Pattern.compile("^(cri-containerd|crio|docker|libpod)-([0-9a-f]{64})\\.scope$");
    private static final Pattern BARE = Pattern.compile("^[0-9a-f]{64}$");

    private Cgroups() {}

    public static ContainerRef parse(String cgroupFile) {
        Optional<String> pod = Optional.empty();
        Optional<String> container = Optional.empty();
        for (String line : cgroupFile.split("\n")) {
            String[] parts = line.split(":", 3);
            if (parts.length < 3) {
                continue;
            }
            String path = parts[2].strip();
            Matcher p = POD.matcher(path);
            if (pod.isEmpty() && p.find()) {
                pod = Optional.of(p.group(1).replace('_', '-').toLowerCase(java.util.Locale.ROOT));
            }
            if (container.isEmpty()) {
                container = container(path, pod.isPresent() || path.contains("kubepods"));
            }
        }
        return new ContainerRef(container, pod);
    }

    private static Optional<String> container(String path, boolean kubernetes) {
        String[] segments = path.split("/");
        for (int i = segments.length - 1; i >= 0; i--) {
            String s = segments[i];
            Matcher m = SCOPED.matcher(s);
            if (m.matches()) {
                String runtime = switch (m.group(1)) {
                    case "cri-containerd" -> "containerd";
                    case "crio" -> "cri-o";
                    case "libpod" -> "podman";
                    default -> "docker";
                };
                return Optional.of(runtime + "://" + m.group(2));
            }
            if (BARE.matcher(s).matches()) {
                // cgroupfs layouts name no runtime: /docker/<id> is Docker; under kubepods it is the CRI's
                String runtime = i > 0 && segments[i - 1].equals("docker") ? "docker" : kubernetes ? "containerd" : "docker";
                return Optional.of(runtime + "://" + s);
            }
        }
        return Optional.empty();
    }
}
