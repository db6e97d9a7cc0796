// Placeholder until the native addon lands: the engine runs on the JS kernels.
console.log('genrm: native addon not built yet; using JS kernels.');
