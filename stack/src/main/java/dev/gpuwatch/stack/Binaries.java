package dev.gpuwatch.stack;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where the Prometheus and Alertmanager programs are: on the PATH or in /usr/bin, under Debian's names
 * ({@code prometheus}, {@code prometheus-alertmanager}) or upstream's ({@code alertmanager}).
 */
public record Binaries(Path prometheus, Path alertmanager) {

    /** The Debian packages that provide them; what {@link #INSTALL_COMMAND} installs. */
    public static final List<String> PACKAGES = List.of("prometheus", "prometheus-alertmanager");
    public static final String INSTALL_COMMAND = "apt-get install -y " + String.join(" ", PACKAGES);

    /** Both programs, or empty when either is missing. */
    public static Optional<Binaries> find() {
        Optional<Path> prometheus = which("prometheus");
        Optional<Path> alertmanager = which("prometheus-alertmanager").or(() -> which("alertmanager"));
        return prometheus.isPresent() && alertmanager.isPresent()
                ? Optional.of(new Binaries(prometheus.get(), alertmanager.get()))
                : Optional.empty();
    }

    private static Optional<Path> which(String name) {
        String path = Optional.ofNullable(System.getenv("PATH")).orElse("") + File.pathSeparator + "/usr/bin";
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
