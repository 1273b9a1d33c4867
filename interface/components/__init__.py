"""Reusable pieces of the Attunement Dashboard: loaders, analysis, metric cards, charts."""
