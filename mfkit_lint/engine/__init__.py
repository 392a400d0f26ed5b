"""Files -> source -> ast -> module model -> rules -> diagnostics. No rule logic lives here."""
