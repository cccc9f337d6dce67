"""分时预约: time-slot appointments at places, with no overbooking."""
