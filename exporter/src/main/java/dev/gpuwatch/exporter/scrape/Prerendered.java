package dev.gpuwatch.exporter.scrape;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.Deflater;

/**
 * Families a collector serves unchanged from scrape to scrape (the model-server series change once per poll), with
 * their exposition text rendered once per format instead of on every scrape, and compressed once when scrapes ask
 * for gzip. The collector returns the very {@link #families()} instances from {@code collect} and offers this object
 * to a {@link Sink} scrape request; the HTTP layer then writes {@link #text} (or {@link #deflated}) for those
 * instances and renders only the rest.
 *
 * <p>Text is rendered on first use per format and escaping; {@link #prerender()} renders, ahead of the next scrape,
 * every format (and compression) that scrapes of earlier generations, sharing the same {@link Demand}, asked for.
 */
public final class Prerendered {

    /** A scrape request that takes pre-rendered families; the HTTP layer's request implements it. */
    public interface Sink {
        void offer(Prerendered families);
    }

    /** A format as one scrape asks for it. */
    public record Format(TextExposition format, EscapingScheme escaping) {}

    /** The formats scrapes have asked for, as text and as deflate segments; shared by successive generations. */
    public static final class Demand {
        private final Set<Format> text = ConcurrentHashMap.newKeySet();
        private final Set<Format> deflated = ConcurrentHashMap.newKeySet();
    }

    private final List<MetricSnapshot> families;
    private final Set<MetricSnapshot> members;
    private final Demand demand;
    private final Map<Format, Map<MetricSnapshot, byte[]>> texts = new ConcurrentHashMap<>();
    private final Map<Format, Map<MetricSnapshot, byte[]>> segments = new ConcurrentHashMap<>();

    /**
     * @param families sorted by name, as they will be served
     * @param demand the formats to render ahead of scrapes; grown by {@link #text} and {@link #deflated}
     */
    public Prerendered(List<MetricSnapshot> families, Demand demand) {
        this.families = List.copyOf(families);
        Set<MetricSnapshot> m = Collections.newSetFromMap(new IdentityHashMap<>());
        m.addAll(this.families);
        this.members = Collections.unmodifiableSet(m);
        this.demand = demand;
    }

    public List<MetricSnapshot> families() {
        return families;
    }

    /** Whether {@code family} is one of these very instances. */
    public boolean contains(MetricSnapshot family) {
        return members.contains(family);
    }

    /** Renders (and compresses) every format in demand now, so that no scrape pays for it. */
    public void prerender() {
        for (Format f : List.copyOf(demand.text)) {
            texts(f);
        }
        for (Format f : List.copyOf(demand.deflated)) {
            segments(f);
        }
    }

    /** The text of {@code family} in {@code format}, when it is one of these very instances. */
    public Optional<byte[]> text(MetricSnapshot family, Format format) {
        if (!members.contains(family)) {
            return Optional.empty();
        }
        demand.text.add(format);
        return Optional.of(texts(format).get(family));
    }

    /**
     * {@link #text} as a {@link DeflateSegment}, when {@code family} is one of these very instances: for a gzip
     * scrape, which then compresses only the families rendered on the scrape.
     */
    public Optional<byte[]> deflated(MetricSnapshot family, Format format) {
        if (!members.contains(family)) {
            return Optional.empty();
        }
        demand.text.add(format);
        demand.deflated.add(format);
        return Optional.of(segments(format).get(family));
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

    private Map<MetricSnapshot, byte[]> segments(Format f) {
        return segments.computeIfAbsent(f, k -> {
            Map<MetricSnapshot, byte[]> text = texts(k);
            Map<MetricSnapshot, byte[]> out = new IdentityHashMap<>();
            Deflater deflater = new Deflater(DeflateSegment.CACHED_LEVEL, true);
            try {
                for (MetricSnapshot s : families) {
                    out.put(s, DeflateSegment.compress(text.get(s), deflater));
                }
            } finally {
                deflater.end();
            }
            return Collections.unmodifiableMap(out);
        });
    }
}
