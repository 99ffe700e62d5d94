package dev.gpuwatch.receiver.deliver.slack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.enrich.Fixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The buttons' actions block: at the end of the message, within Slack's 50 blocks. */
class BlockKitButtonsTest {

    private static final List<SlackButtons.Button> BUTTONS = List.of(
            new SlackButtons.Button("silence_1h", "Silence 1h", "store/1"),
            new SlackButtons.Button("acknowledge", "Acknowledge", "store/1"));

    private static BlockKit.SlackMessage message(int alerts) {
        List<dev.gpuwatch.receiver.alert.Alert> list = new ArrayList<>();
        for (int i = 0; i < alerts; i++) {
            list.add(Fixtures.xid("firing", "node-" + i, Integer.toString(i)));
        }
        return new BlockKit(Templates.defaults()).notification(Fixtures.enrich(Fixtures.notification("firing", list)));
    }

    @Test
    void theButtonsAreTheLastBlockWithTheirActionIdsLabelsAndValues() {
        BlockKit.SlackMessage plain = message(1);
        BlockKit.SlackMessage with = BlockKit.withActions(plain, BUTTONS);
        assertEquals(plain.blocks().size() + 1, with.blocks().size());
        var actions = with.blocks().get(with.blocks().size() - 1);
        assertEquals("actions", actions.path("type").asText());
        assertEquals(BlockKit.ACTIONS_BLOCK, actions.path("block_id").asText());
        assertEquals("silence_1h", actions.path("elements").path(0).path("action_id").asText());
        assertEquals("Silence 1h", actions.path("elements").path(0).path("text").path("text").asText());
        assertEquals("store/1", actions.path("elements").path(1).path("value").asText());
        assertEquals(plain.blocks().size(), message(1).blocks().size(), "the message given is not changed");
        assertSame(plain, BlockKit.withActions(plain, List.of()));
    }

    @Test
    void aMessageAtTheBlockLimitStaysWithinIt() {
        BlockKit.SlackMessage full = message(80);
        assertEquals(BlockKit.MAX_BLOCKS, full.blocks().size());
        BlockKit.SlackMessage with = BlockKit.withActions(full, BUTTONS);
        assertEquals(BlockKit.MAX_BLOCKS, with.blocks().size());
        assertEquals("actions", with.blocks().get(BlockKit.MAX_BLOCKS - 1).path("type").asText());
    }
}
