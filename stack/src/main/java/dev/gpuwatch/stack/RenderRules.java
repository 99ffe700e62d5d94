package dev.gpuwatch.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The one setting of the rules' runbook links: {@code rules/*.rules.yml} ship with
 * {@code runbook_url: http://localhost:9095/runbooks/<alert>} (the receiver's default address, so promtool tests
 * run on the files as they are), and this writes copies whose links start with another base, e.g. the
 * receiver's {@code --web.external-url} + {@code /runbooks/}. Only the {@code runbook_url:} lines change; comments
 * and layout stay. The stack renders the rules with its receiver's address; {@code scripts/render-rules} runs
 * this file with the JDK alone (no build), for a deployment.
 */
public final class RenderRules {

    /** The base every shipped rule's runbook_url starts with. */
    public static final String SHIPPED_BASE = "http://localhost:9095/runbooks/";
    private static final String KEY = "runbook_url: ";

    private RenderRules() {}

    /** {@code text} of one rule file with every {@code runbook_url} on {@code base}. */
    static String render(String text, String base) {
        String to = normalise(base);
        StringBuilder out = new StringBuilder(text.length());
        for (String line : text.split("(?<=\n)", -1)) {
            int at = line.indexOf(KEY + SHIPPED_BASE);
            out.append(at < 0 ? line : line.substring(0, at) + KEY + to
                    + line.substring(at + KEY.length() + SHIPPED_BASE.length()));
        }
        return out.toString();
    }

    /**
     * Writes every {@code *.rules.yml} of {@code rulesDir} into {@code outDir} with the runbook links on
     * {@code base}; returns the files written.
     */
    public static List<Path> renderAll(Path rulesDir, String base, Path outDir) {
        String to = normalise(base);
        List<Path> written = new ArrayList<>();
        try (Stream<Path> files = Files.list(rulesDir)) {
            Files.createDirectories(outDir);
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".rules.yml")).sorted().toList()) {
                Path target = outDir.resolve(file.getFileName().toString());
                Files.writeString(target, render(Files.readString(file, StandardCharsets.UTF_8), to),
                        StandardCharsets.UTF_8);
                written.add(target);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render " + rulesDir + " into " + outDir + ": " + e.getMessage(), e);
        }
        return written;
    }

    /** The base with exactly one trailing slash; refuses what is not an absolute http(s) URL. */
    static String normalise(String base) {
        String b = base.strip();
        try {
            URI uri = new URI(b);
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
                    || uri.getRawQuery() != null || uri.getRawFragment() != null) {
                throw new IllegalArgumentException("--runbook-base-url: expected an absolute http(s) URL, got \""
                        + base + "\"");
            }
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--runbook-base-url: expected an absolute http(s) URL, got \""
                    + base + "\"");
        }
        while (b.endsWith("/")) {
            b = b.substring(0, b.length() - 1);
        }
        return b + "/";
    }

    /** {@code --runbook-base-url=URL --out=DIR [--rules=DIR]}; exit 2 on a bad argument. */
    public static void main(String[] args) {
        String base = null;
        Path out = null;
        Path rules = Path.of("rules");
        for (String arg : args) {
            if (arg.startsWith("--runbook-base-url=")) {
                base = arg.substring("--runbook-base-url=".length());
            } else if (arg.startsWith("--out=")) {
                out = Path.of(arg.substring("--out=".length()));
            } else if (arg.startsWith("--rules=")) {
                rules = Path.of(arg.substring("--rules=".length()));
            } else {
                usage("unknown argument " + arg);
            }
        }
        if (base == null || out == null) {
            usage("--runbook-base-url and --out are required");
        }
        try {
            for (Path p : renderAll(rules, base, out)) {
                System.out.println(p);
            }
        } catch (IllegalArgumentException | UncheckedIOException e) {
            System.err.println("render-rules: " + e.getMessage());
            System.exit(2);
        }
    }

    private static void usage(String problem) {
        System.err.println("render-rules: " + problem + "\nusage: render-rules --runbook-base-url=https://receiver"
                + ".example.com/runbooks/ --out=DIR [--rules=rules]");
        System.exit(2);
    }
}
