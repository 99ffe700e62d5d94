package dev.gpuwatch.testkit.prometheus;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the Prometheus project's programs are: on the PATH or in /usr/bin, under Debian's names or upstream's.
 * One lookup for the demo and every test, so all of them run the same binaries.
 */
final class Programs {

    /** What provides them on Debian; scripts/test and the demo install these. */
    static final String DEBIAN_PACKAGES = "Debian's prometheus and prometheus-alertmanager packages";

    private Programs() {}

    /** The first of {@code names} found, each looked up on the PATH, then in /usr/bin. */
    static Optional<Path> find(String... names) {
        String path = Optional.ofNullable(System.getenv("PATH")).orElse("") + File.pathSeparator + "/usr/bin";
        for (String name : names) {
            for (String dir : path.split(File.pathSeparator)) {
                if (dir.isEmpty()) {
                    continue;
                }
                Path candidate = Path.of(dir, name);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    /** The first of {@code names} found, or a failure that says what to install. */
    static Path require(String... names) {
        return find(names).orElseThrow(() -> new IllegalStateException(String.join(" or ", names)
                + " is not on the PATH nor in /usr/bin; install " + DEBIAN_PACKAGES + " (scripts/test does)"));
    }
}
