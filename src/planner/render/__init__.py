"""Renderers: pure functions from results to text, JSON, JUnit, SARIF, GitHub and HTML."""
