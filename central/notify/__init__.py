"""Sending what the hub has to tell citizens: the notification outbox, drained.

The scheduler writes an invitation (SMS and e-mail) into ``notification_outbox``
in the transaction that books the appointment (`central.scheduling`). This
package delivers those rows through gateways:

- `gateways`: the `Gateway` protocol and its real implementations: e-mail over
  SMTP (`SmtpEmailGateway`), SMS through an HTTP gateway (`HttpSmsGateway`),
  and a folder of message files (`FolderGateway`) for demos and for a hub
  whose operator sends by other means;
- `dispatch`: claims due rows, sends each, and records sent, retry later
  (with backoff) or failed for good.

Delivery is at least once: a row is marked sent in the transaction that
claimed it, after the gateway accepted it; a crash between the two sends it
again on the next run (an invitation twice is better than none).
"""
