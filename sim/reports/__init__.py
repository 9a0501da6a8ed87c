"""Reports: what people read and keep, from a result, with every figure formatted for people.

``fmt`` (money, percentages, years), ``labels`` (people's name and unit of every
metric, series and account column: one table for every output), ``story`` (a run in plain sentences), ``plots``
(matplotlib charts for slides), ``svg`` (small inline charts for live pages), ``pages``
(self-contained HTML), ``workbook`` (report.xlsx), ``account_table`` (the per-account
table), ``files`` (atomic writes, manifests, output folders), ``run_folder`` (a run's
complete folder) and ``results_index`` (results/index.html). It may import the runs,
inputs and engine layers and ``sim.errors``, never an application.
"""
