"""Proactive services (应享尽享): screening runs, explanations, offers with one-click apply, and
risk alerts (返贫风险预警). See docs/screening.md.

A submitted application takes up the offer it answers (offers.on_submit) because the slice
contributes that listener to `services.application_submitted` (screening/slice.py); importing
the package has no side effect.
"""
