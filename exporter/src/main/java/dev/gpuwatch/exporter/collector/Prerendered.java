package dev.gpuwatch.exporter.collector;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Families a collector serves unchanged from scrape to scrape (the model-server series change once per poll), with
 * their exposition text rendered once per format instead of on every scrape. The collector returns the very
 * {@link #families()} instances from {@code collect} and offers this object to a {@link Sink} scrape request; the
 * HTTP layer then writes {@link #text} for those instances and renders only the rest.
 *
 * <p>Text is rendered on first use per format and escaping; {@link #prerender()} renders, ahead of the next scrape,
 * every format that scrapes of earlier generations (sharing the same {@code wanted} set) asked for.
 */
public final class Prerendered {

    /** A scrape request that takes pre-rendered families; the HTTP layer's request implements it. */
    public interface Sink {
        void offer(Prerendered families);
    }

    /** A format as one scrape asks for it. */
    public record Format(TextExposition format, EscapingScheme escaping) {}

    private final List<MetricSnapshot> families;
    private final Set<MetricSnapshot> members;
    private final Set<Format> wanted;
    private final Map<Format, Map<MetricSnapshot, byte[]>> texts = new ConcurrentHashMap<>();

    /**
     * @param families sorted by name, as they will be served
     * @param wanted the formats to render ahead of scrapes; shared by a collector's successive generations and
     *     grown by {@link #text}
     */
    public Prerendered(List<MetricSnapshot> families, Set<Format> wanted) {
        this.families = List.copyOf(families);
        Set<MetricSnapshot> m = Collections.newSetFromMap(new IdentityHashMap<>());
        m.addAll(this.families);
        this.members = Collections.unmodifiableSet(m);
        this.wanted = wanted;
    }

    public List<MetricSnapshot> families() {
        return families;
    }

    /** Renders every wanted format now, so that no scrape pays for it; called where the families were built. */
    public void prerender() {
        for (Format f : List.copyOf(wanted)) {
            texts(f);
        }
    }

    /** The text of {@code family} in {@code format}, when it is one of these very instances. */
    public Optional<byte[]> text(MetricSnapshot family, Format format) {
        if (!members.contains(family)) {
            return Optional.empty();
        }
        wanted.add(format);
        return Optional.of(texts(format).get(family));
    }

    private Map<MetricSnapshot, byte[]> texts(Format f) {
        // Two scrapes arriving together render once; the families of one format are rendered together.
        return texts.computeIfAbsent(f, k -> {
            Map<MetricSnapshot, byte[]> out = new IdentityHashMap<>();
            for (MetricSnapshot s : families) {
                out.put(s, k.format().render(List.of(s), k.escaping()));
            }
            return Collections.unmodifiableMap(out);
        });
    }
}
