"""Working-day calendar, deadlines, priority and the capacity plan.

Owns: the working-day calendar (chinese-calendar wrapped to fail closed, with
configs/ overrides), deadlines per document type and service class, priority
order, the EDF capacity plan over machines and shifts, the demand-bound
feasibility test, overtime, peak forecasts and green-channel admission.

Pure: imports ``factory.errors``, ``factory.config`` and ``factory.records``,
numpy and chinese_calendar. No I/O; ``today``/``now`` are always passed in.
"""
