package dev.gpuwatch.receiver.deliver.slack;

import com.slack.api.methods.MethodsClient;
import com.slack.api.methods.SlackApiException;
import com.slack.api.methods.request.files.FilesCompleteUploadExternalRequest;
import com.slack.api.methods.response.files.FilesCompleteUploadExternalResponse;
import com.slack.api.methods.response.files.FilesGetUploadURLExternalResponse;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.enrich.LiveView;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shares a message's graph into its thread with Slack's external upload (files.upload is retired):
 * {@code files.getUploadURLExternal} (filename, length), the PNG POSTed to the {@code upload_url} it answers,
 * then {@code files.completeUploadExternal} with the message's channel and {@code thread_ts}. Called after the
 * message is posted, once per new firing message (a resolve or a reminder updates the message and adds no graph);
 * a failure is logged in one line and never turns the delivered message into a retry that would post it twice.
 * Needs the {@code files:write} scope.
 */
final class GraphUpload {

    private static final Logger LOG = LoggerFactory.getLogger(GraphUpload.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(15);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(SlackChannel.CONNECT_TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER).build();

    private GraphUpload() {}

    /** True when the graph is in the thread. */
    static boolean share(MethodsClient api, Receipt message, LiveView.Graph graph) {
        Optional<String> channel = message.get("channel");
        Optional<String> ts = message.get("ts");
        if (channel.isEmpty() || ts.isEmpty()) {
            return false;
        }
        try {
            FilesGetUploadURLExternalResponse url = api.filesGetUploadURLExternal(req -> req
                    .filename(graph.fileName())
                    .length(graph.png().length)
                    .altTxt(graph.alt().length() > 1000 ? graph.alt().substring(0, 1000) : graph.alt()));
            if (!url.isOk() || url.getUploadUrl() == null || url.getFileId() == null) {
                return failed("files.getUploadURLExternal: " + Optional.ofNullable(url.getError()).orElse("no upload_url"));
            }
            HttpResponse<String> uploaded = HTTP.send(HttpRequest.newBuilder(URI.create(url.getUploadUrl()))
                    .timeout(TIMEOUT)
                    .header("Content-Type", "image/png")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(graph.png()))
                    .build(), HttpResponse.BodyHandlers.ofString());
            if (uploaded.statusCode() != 200) {
                return failed("upload: HTTP " + uploaded.statusCode());
            }
            FilesCompleteUploadExternalResponse done = api.filesCompleteUploadExternal(req -> req
                    .files(List.of(FilesCompleteUploadExternalRequest.FileDetails.builder()
                            .id(url.getFileId()).title(graph.title().length() > 250 ? graph.title().substring(0, 250) : graph.title())
                            .build()))
                    .channelId(channel.get())
                    .threadTs(ts.get()));
            if (!done.isOk()) {
                return failed("files.completeUploadExternal: " + Optional.ofNullable(done.getError()).orElse("not ok"));
            }
            return true;
        } catch (IOException | SlackApiException | RuntimeException e) {
            return failed(e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed("interrupted");
        }
    }

    private static boolean failed(String reason) {
        LOG.warn("slack: the graph was not shared into the message's thread: {}", reason);
        return false;
    }
}
