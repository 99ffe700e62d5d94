package dev.gpuwatch.probe.nvml;

import dev.gpuwatch.probe.GpmField;
import dev.gpuwatch.probe.GpmMetric;
import java.util.ArrayList;
import java.util.List;

/**
 * The GPM metric ids of nvml.h ({@code nvmlGpmMetricId_t}) that the probe asks for, and the {@link GpmMetric}
 * each one becomes. Index {@code k} of {@link #ID} and {@link #METRIC} describe the same metric, so a set of ids
 * still believed supported is a bit set over {@code 0..COUNT-1}.
 *
 * <p>The table has {@value #COUNT} ids, fewer than the 98 entries of NVML_GPM_METRIC_MAX in the oldest GPM
 * drivers (NVML 11.8 to 12.8), so one nvmlGpmMetricsGet with every id is valid on every driver and the binding
 * never needs the driver's version (REFERENCE section 9: the struct version stayed 1 while the array grew).
 * {@code GpmIdsTest} keeps it that way: ids past 98 would need a split into calls of at most 98.
 */
final class GpmIds {

    /** NVML_GPM_METRIC_MAX of NVML 11.8 to 12.8, the most ids one call may carry on those drivers. */
    static final int OLDEST_METRIC_MAX = 98;
    static final int COUNT = 75;

    static final int[] ID = new int[COUNT];
    static final GpmMetric[] METRIC = new GpmMetric[COUNT];

    static {
        List<Integer> ids = new ArrayList<>();
        List<GpmMetric> metrics = new ArrayList<>();
        add(ids, metrics, 1, GpmField.GRAPHICS_ACTIVE, 0);
        add(ids, metrics, 2, GpmField.SM_ACTIVE, 0);
        add(ids, metrics, 3, GpmField.SM_OCCUPANCY, 0);
        add(ids, metrics, 4, GpmField.INTEGER_PIPE, 0);
        add(ids, metrics, 5, GpmField.TENSOR_ANY, 0);
        add(ids, metrics, 6, GpmField.TENSOR_DFMA, 0);
        add(ids, metrics, 7, GpmField.TENSOR_HMMA, 0);
        add(ids, metrics, 8, GpmField.TENSOR_DMMA, 0); // NVML 13.2.1 and later
        add(ids, metrics, 9, GpmField.TENSOR_IMMA, 0);
        add(ids, metrics, 10, GpmField.DRAM_BANDWIDTH, 0);
        add(ids, metrics, 11, GpmField.FP64_PIPE, 0);
        add(ids, metrics, 12, GpmField.FP32_PIPE, 0);
        add(ids, metrics, 13, GpmField.FP16_PIPE, 0);
        add(ids, metrics, 20, GpmField.PCIE_TX, 0);
        add(ids, metrics, 21, GpmField.PCIE_RX, 0);
        for (int n = 0; n < GpmField.NVDEC.instances(); n++) {
            add(ids, metrics, 30 + n, GpmField.NVDEC, n);
        }
        for (int n = 0; n < GpmField.NVJPG.instances(); n++) {
            add(ids, metrics, 40 + n, GpmField.NVJPG, n);
        }
        for (int n = 0; n < GpmField.NVOFA.instances(); n++) {
            add(ids, metrics, 50 + n, GpmField.NVOFA, n);
        }
        add(ids, metrics, 60, GpmField.NVLINK_RX, 0);
        add(ids, metrics, 61, GpmField.NVLINK_TX, 0);
        for (int n = 0; n < GpmField.NVLINK_LINK_RX.instances(); n++) {
            add(ids, metrics, 62 + 2 * n, GpmField.NVLINK_LINK_RX, n);
            add(ids, metrics, 63 + 2 * n, GpmField.NVLINK_LINK_TX, n);
        }
        for (int n = 0; n < GpmField.NVENC.instances(); n++) {
            add(ids, metrics, 166 + n, GpmField.NVENC, n);
        }
        if (ids.size() != COUNT) {
            throw new IllegalStateException("GPM id table has " + ids.size() + " ids, not " + COUNT);
        }
        for (int k = 0; k < COUNT; k++) {
            ID[k] = ids.get(k);
            METRIC[k] = metrics.get(k);
        }
    }

    private GpmIds() {}

    private static void add(List<Integer> ids, List<GpmMetric> metrics, int id, GpmField field, int instance) {
        ids.add(id);
        metrics.add(field.metric(instance));
    }

    /** NVML's value in the probe's unit: percent becomes a ratio 0..1, MiB/s becomes bytes per second. */
    static double convert(GpmMetric metric, double nvmlValue) {
        return switch (metric.field().unit()) {
            case RATIO -> nvmlValue / 100.0;
            case BYTES_PER_SECOND -> nvmlValue * 1_048_576.0;
        };
    }
}
