// esbuild loads .css as text for the notebook renderer (it cannot link a stylesheet).
declare module '*.css' {
  const text: string;
  export default text;
}
