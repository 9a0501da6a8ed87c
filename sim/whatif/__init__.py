"""What-ifs for strategy teams: the base and a changed market on the same seeds, in money and years.

``answer`` runs both sides and computes the answer, the parity spread and the account
table; ``output`` writes it (report.html, report.xlsx, accounts.csv, charts). An
application: it may import the reports, runs, inputs and engine layers, not another
application.
"""
