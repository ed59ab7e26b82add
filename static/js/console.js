// SecureCloud Console behaviour. Loaded from our own origin (no inline scripts: CSP).
"use strict";
