"""Packs: a region's content as a folder of YAML files, validated and cross-checked on load."""
