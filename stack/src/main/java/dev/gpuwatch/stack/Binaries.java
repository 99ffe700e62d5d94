package dev.gpuwatch.stack;

import dev.gpuwatch.testkit.prometheus.Alertmanager;
import dev.gpuwatch.testkit.prometheus.Prometheus;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where the Prometheus and Alertmanager programs are, as the testkit's launchers find them (the PATH or
 * /usr/bin, Debian's names or upstream's), and how the demo installs them when they are missing.
 */
public record Binaries(Path prometheus, Path alertmanager) {

    /** The Debian packages that provide them; what {@link #INSTALL_COMMAND} installs. */
    public static final List<String> PACKAGES = List.of("prometheus", "prometheus-alertmanager");
    public static final String INSTALL_COMMAND = "apt-get install -y " + String.join(" ", PACKAGES);

    /** Both programs, or empty when either is missing. */
    public static Optional<Binaries> find() {
        Optional<Path> prometheus = Prometheus.binary();
        Optional<Path> alertmanager = Alertmanager.binary();
        return prometheus.isPresent() && alertmanager.isPresent()
                ? Optional.of(new Binaries(prometheus.get(), alertmanager.get()))
                : Optional.empty();
    }
}
