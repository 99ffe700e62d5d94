package dev.gpuwatch.probe.nvml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.probe.GpmMetric;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class GpmIdsTest {

    @Test
    void theTableIsReferenceSectionNinesMapping() {
        Map<Integer, GpmMetric> table = new TreeMap<>();
        for (int k = 0; k < GpmIds.COUNT; k++) {
            table.put(GpmIds.ID[k], GpmIds.METRIC[k]);
        }
        assertEquals(NvmlGpmTest.REFERENCE_IDS, table);
        assertEquals(GpmIds.COUNT, table.values().stream().distinct().count());
    }

    /** One nvmlGpmMetricsGet carries every id; that is valid on every driver only while they fit the oldest max. */
    @Test
    void everyIdFitsOneCallOnTheOldestGpmDrivers() {
        assertTrue(GpmIds.COUNT <= GpmIds.OLDEST_METRIC_MAX, GpmIds.COUNT + " ids");
    }
}
