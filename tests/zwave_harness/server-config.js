// Driver options for `zwave-server --config` (the real zwave-js driver against the mock network).
// Throwaway keys: --config requires securityKeys.S0_Legacy. The cache dir must be fresh per
// stack start (a cache from another mock run loads stale values), so it comes from the env.
module.exports = {
	securityKeys: {
		S0_Legacy: "0102030405060708090a0b0c0d0e0f10",
		S2_Unauthenticated: "1112131415161718191a1b1c1d1e1f20",
		S2_Authenticated: "2122232425262728292a2b2c2d2e2f30",
		S2_AccessControl: "3132333435363738393a3b3c3d3e3f40",
	},
	storage: { cacheDir: process.env.ZW_CACHE_DIR || "./cache" },
	logConfig: { enabled: true, forceConsole: true, level: process.env.ZW_LOGLEVEL || "debug" },
	emitValueUpdateAfterSetValue: true,
};
