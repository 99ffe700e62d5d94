package dev.gpuwatch.probe.simulated;

/**
 * Seeded hashing: every random-looking constant of the fleet is a hash of (seed, keys...). SplitMix64's
 * finaliser is written out here rather than taken from {@link java.util.SplittableRandom} so UUIDs, serials and
 * pids stay the same across JDK versions.
 */
final class Seeds {
    private Seeds() {}

    static long hash(long seed, long... keys) {
        long h = mix(seed ^ 0x9E3779B97F4A7C15L);
        for (long key : keys) {
            h = mix(h + 0x9E3779B97F4A7C15L + key);
        }
        return h;
    }

    /** Maps a hash to a uniform double in [0, 1). */
    static double unit(long hash) {
        return (hash >>> 11) * 0x1.0p-53;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
