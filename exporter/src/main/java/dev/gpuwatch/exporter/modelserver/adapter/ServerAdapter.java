package dev.gpuwatch.exporter.modelserver.adapter;

/** Reads one kind of model server and maps what it reports onto the normalised {@code inference_*} family. */
public interface ServerAdapter {

    /** Polls the target through {@code fetcher} once. Series the server has no equivalent for stay absent. */
    Normalized poll(Fetcher fetcher, AdapterOptions options) throws PollFailure;
}
