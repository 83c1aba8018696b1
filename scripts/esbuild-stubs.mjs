// ssh2 optionally require()s `cpu-features` (a native module that only reorders cipher
// preferences). Left external, Node resolves that bare name by walking up node_modules
// folders from the bundle — outside our package, where anyone who can write a parent
// folder could plant code the CLI or extension would run. Bundled as a stub that throws,
// ssh2 takes its built-in defaults and nothing is looked up.
export const stubOptionalNativeModules = {
  name: 'stub-optional-native-modules',
  setup(build) {
    build.onResolve({ filter: /^cpu-features$/ }, () => ({ path: 'cpu-features', namespace: 'rbs-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'rbs-stub' }, () => ({
      contents: "module.exports = () => { throw new Error('cpu-features is not bundled'); };",
      loader: 'js',
    }));
  },
};
