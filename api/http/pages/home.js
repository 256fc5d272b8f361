// The front door: a token goes to its role's page (GG.start sends it there).
"use strict";
GG.start({ roles: [], start() {} });
