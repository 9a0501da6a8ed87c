"""Side-by-side comparison of two scenarios on the same seeds (``procsim compare``).

``comparison`` runs both and tabulates the differences; ``output`` writes the folder
(report.html, report.xlsx, deltas, overlay charts). An application: it may import the
reports, runs, inputs and engine layers, not another application.
"""
