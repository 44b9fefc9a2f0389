// Finds TensorRT (>= 10) and CUDA for binding.gyp; without both, only the CPU kernels build.
//   node native/tensorrt/detect.cjs enabled|include_dirs|libraries
// TENSORRT_ROOT / CUDA_ROOT win; otherwise JetPack's locations (TensorRT in the multiarch
// include/lib folders, CUDA in /usr/local/cuda). ANCHORSEG_TENSORRT=0 turns the provider off.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const multiarch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';

// TensorRT 10.11+ defines the version through another macro (`#define NV_TENSORRT_MAJOR
// TRT_MAJOR_ENTERPRISE`, `#define TRT_MAJOR_ENTERPRISE 10`): follow one such step.
function trtMajor(header) {
  const value = (name) => new RegExp(`^\\s*#define\\s+${name}\\s+(\\w+)`, 'm').exec(header)?.[1];
  const v = value('NV_TENSORRT_MAJOR');
  return Number(v !== undefined && !/^\d+$/.test(v) ? value(v) : v);
}

function trt() {
  const root = process.env.TENSORRT_ROOT;
  const include = root ? [path.join(root, 'include')] : [`/usr/include/${multiarch}`, '/usr/include'];
  const lib = root ? [path.join(root, 'lib'), path.join(root, 'lib64')] : [`/usr/lib/${multiarch}`, '/usr/lib'];
  const inc = include.find((d) => fs.existsSync(path.join(d, 'NvInferVersion.h')) && fs.existsSync(path.join(d, 'NvOnnxParser.h')));
  const libdir = lib.find((d) => fs.existsSync(path.join(d, 'libnvinfer.so')) && fs.existsSync(path.join(d, 'libnvonnxparser.so')));
  if (!inc || !libdir) return null;
  if (!(trtMajor(fs.readFileSync(path.join(inc, 'NvInferVersion.h'), 'utf8')) >= 10)) return null;
  return { inc, libdir };
}

function cuda() {
  const root = process.env.CUDA_ROOT || process.env.CUDA_HOME || '/usr/local/cuda';
  const inc = path.join(root, 'include');
  const libdir = [path.join(root, 'lib64'), path.join(root, 'lib'), path.join(root, 'targets', `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux`, 'lib')].find((d) =>
    fs.existsSync(path.join(d, 'libcudart.so')),
  );
  if (!fs.existsSync(path.join(inc, 'cuda_runtime_api.h')) || !libdir) return null;
  return { inc, libdir };
}

const off = process.env.ANCHORSEG_TENSORRT === '0';
const t = off ? null : trt();
const c = off ? null : cuda();
const found = t && c;
const mode = process.argv[2];
if (mode === 'enabled') process.stdout.write(found ? '1' : '0');
else if (mode === 'include_dirs') process.stdout.write(found ? `${t.inc} ${c.inc}` : '');
else if (mode === 'libraries') {
  const dirs = found ? [...new Set([t.libdir, c.libdir])] : [];
  process.stdout.write(found ? [...dirs.flatMap((d) => [`-L${d}`, `-Wl,-rpath,${d}`]), '-lnvinfer', '-lnvonnxparser', '-lcudart'].join(' ') : '');
} else {
  process.stderr.write('usage: detect.cjs enabled|include_dirs|libraries\n');
  process.exit(2);
}
