/**
 * A deterministic simulated fleet of NVIDIA GPUs ({@link dev.gpuwatch.probe.simulated.SimulatedFleet}) for the
 * demo and for tests that need a GPU alert to fire on purpose. Values are computed from the seed, the device
 * index and the options' clock when {@code sample()} is called; nothing runs in the background. GPM values, as
 * with the real driver, need a previous sample: each GPU's first has none.
 * Scenarios, timings and the alerts each one is meant to fire are documented in docs/simulated-fleet.md.
 */
package dev.gpuwatch.probe.simulated;
