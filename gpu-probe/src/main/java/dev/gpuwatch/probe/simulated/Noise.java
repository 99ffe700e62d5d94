package dev.gpuwatch.probe.simulated;

/**
 * Smooth deterministic noise in [-1, 1]: three sines with seeded periods (about 1, 3 and 12 minutes) and phases.
 * A sum of sines has no jumps, so utilisation, power and temperature move like the real thing.
 */
record Noise(double p1, double p2, double p3, double f1, double f2, double f3) {

    static Noise of(long seed, long... keys) {
        long[] k = new long[keys.length + 1];
        System.arraycopy(keys, 0, k, 0, keys.length);
        double[] v = new double[6];
        for (int i = 0; i < 6; i++) {
            k[keys.length] = i;
            v[i] = Seeds.unit(Seeds.hash(seed, k));
        }
        return new Noise(40 + 30 * v[0], 130 + 70 * v[1], 500 + 400 * v[2],
                2 * Math.PI * v[3], 2 * Math.PI * v[4], 2 * Math.PI * v[5]);
    }

    double at(double seconds) {
        return 0.5 * Math.sin(2 * Math.PI * seconds / p1 + f1)
                + 0.3 * Math.sin(2 * Math.PI * seconds / p2 + f2)
                + 0.2 * Math.sin(2 * Math.PI * seconds / p3 + f3);
    }
}
