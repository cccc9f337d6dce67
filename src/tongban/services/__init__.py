"""Services (政务服务): data elements, service items (事项), one-things (一件事), the application
engine with its working-day clocks, signed e-certificates (电子证照) and the resident's inbox."""
