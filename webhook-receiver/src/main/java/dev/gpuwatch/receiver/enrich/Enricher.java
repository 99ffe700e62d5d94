package dev.gpuwatch.receiver.enrich;

import dev.gpuwatch.receiver.alert.Notification;

/** Adds runbook, owner, first steps and links to every alert of a notification. Pure; thread-safe. */
public interface Enricher {

    EnrichedNotification enrich(Notification notification);
}
