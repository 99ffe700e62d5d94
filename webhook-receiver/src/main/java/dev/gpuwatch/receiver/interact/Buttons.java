package dev.gpuwatch.receiver.interact;

import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.slack.SlackButtons;
import dev.gpuwatch.receiver.store.NotificationStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The buttons of one group's message: Silence 1h and 4h when the receiver knows its Alertmanager
 * ({@code enrichment.alertmanager_url}), Acknowledge when the same notification also goes to PagerDuty. None on a
 * digest (it speaks for many groups) or a resolved group. Each button's value is {@code <store id>/<delivery id>}:
 * an opaque reference that {@link Interactions} resolves against the store, never a label or a secret.
 */
public final class Buttons implements SlackButtons {

    private final boolean silences;
    private final Supplier<Optional<NotificationStore>> store;

    /**
     * @param store the receiver's store once open: the channels, and so their buttons, are made before it, so
     *     that a configuration error is reported before the database is touched
     */
    public Buttons(boolean silences, Supplier<Optional<NotificationStore>> store) {
        this.silences = silences;
        this.store = store;
    }

    @Override
    public List<Button> offer(Delivery delivery) {
        if (delivery.isDigest() || delivery.notifications().getFirst().notification().isResolved()
                || delivery.origin().isEmpty()) {
            return List.of();
        }
        Delivery.Origin origin = delivery.origin().get();
        long deliveryId = origin.deliveries().getFirst();
        String value = reference(origin.store(), deliveryId);
        List<Button> buttons = new ArrayList<>();
        if (silences) {
            buttons.add(button(ButtonAction.SILENCE_1H, value));
            buttons.add(button(ButtonAction.SILENCE_4H, value));
        }
        boolean paged = store.get().flatMap(s -> s.deliveryContext(deliveryId))
                .map(c -> c.targets().stream().anyMatch(t -> t.integration().equals("pagerduty")))
                .orElse(false);
        if (paged) {
            buttons.add(button(ButtonAction.ACKNOWLEDGE, value));
        }
        return List.copyOf(buttons);
    }

    static String reference(String storeId, long deliveryId) {
        return storeId + "/" + deliveryId;
    }

    private static Button button(ButtonAction action, String value) {
        return new Button(action.actionId, action.label, value);
    }
}
