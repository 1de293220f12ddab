-- A message's webhook deliveries, found by the message: deleting a message
-- takes its body out of the deliveries queued or sent for it too.
CREATE INDEX webhook_deliveries_by_message ON webhook_deliveries (room, seq);
