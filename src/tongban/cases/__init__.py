"""The case engine: 12345 诉求 and grid events (基层治理四平台) in one closed loop, with Open311."""
