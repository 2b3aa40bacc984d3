"""Evaluation helpers: built-in test material and measurements of stylized video.

Submodules are imported explicitly (for example ``steadystyle.evaluate.synthetic``);
nothing heavy is imported here.
"""
