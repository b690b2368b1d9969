"""Connecting the scheduler library to the hub database.

`central.scheduling.run.run_schedule(hub, start, days, actor=...)` reads who
is waiting (`demand`), what sites can offer (`capacity`), runs
`scheduler.schedule`, and writes appointments, their events, change-log
entries for the sites' pulls, invitations (`invitations`) and the reasons of
everyone not booked, in one transaction (`writes`, column by column, with
JSON texts from `json_text` templates); it returns a `summary.RunSummary`.
`status.schedule_status` answers where one citizen stands, for
``GET /v1/citizens/{id}/schedule-status``; `cli.schedule` is
``imuno-hub schedule``.

Nothing is imported here, so that ``imuno-hub --help`` stays quick.
"""
