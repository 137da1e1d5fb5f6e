"""The control-room terminal UI (Textual). Screens and widgets only; the work goes through recall/ and hybrid/."""
