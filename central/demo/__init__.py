"""Demo data for the central database: a plausible Serbian population, sites and stock.

- `central.demo.generate.generate_demo` fills an empty, migrated database and
  returns a `central.demo.summary.DemoSummary` (``render()`` prints it);
- `central.demo.cli.demo_data_command` is ``imuno-hub demo-data``.

The model behind the data, with its sources and assumptions, is documented
in the module that makes each part: `people` (citizens), `preferences`,
`sites`, `stock`; `rows` turns them into table rows, `staging` writes them
from several processes, `seeded` makes everything repeatable for a seed.
Nothing is imported here, so the CLI's ``--help`` stays quick.
"""
