"""Scanner and camera input of the site client, without Qt.

- `scan`: what a scanned text is (`classify` -> `JmbgScan`, `MrzScan`,
  `AppointmentScan`, `Gs1Scan`, `DccScan` or `UnknownScan` with a reason).
- `wedge`: telling a keyboard-wedge scanner's burst from a person typing.
- `decoders`: barcodes in camera pictures (zxing-cpp, pyzbar, a chain).
- `camera`: frame sources (OpenCV camera or video file, pushed frames) and
  the background worker that decodes them.
- `errors`: the messages a nurse reads when a scan or the camera fails.

The Qt side lives in `app.ui.scanner_filter` (scanner bursts anywhere in the
application) and `app.ui.camera_bridge` (camera results as Qt signals).
"""
