package dev.gpuwatch.probe;

/** Whether a device could be read in this sample. */
public enum DeviceState {
    /** Read normally; individual fields may still be absent when unsupported. */
    OK,
    /** The driver reported the GPU lost (NVML_ERROR_GPU_IS_LOST, e.g. fell off the bus, Xid 79). */
    LOST,
    /** The device exists but could not be read (handle or permission error); see the snapshot's reason. */
    UNREADABLE
}
