{
  "variables": {
    "navws_sanitize%": "0"
  },
  "targets": [
    {
      "target_name": "navws_native",
      "sources": [
        "<!@(node -e \"const fs=require('fs');const walk=d=>fs.readdirSync(d,{withFileTypes:true}).flatMap(e=>e.isDirectory()?walk(d+'/'+e.name):e.name.endsWith('.cc')?[d+'/'+e.name]:[]);console.log(walk('src').sort().join(' '))\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "src"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_ADDON_API_CPP_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3"]
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/O2"] }
      },
      "conditions": [
        ["OS!='win'", {
          "libraries": ["-lpthread"]
        }],
        ["OS=='linux' or OS=='mac'", {
          "configurations": {
            "Release": {
              "cflags_cc": ["-O3", "-fno-math-errno", "-ftree-vectorize", "-funroll-loops"],
              "cflags_cc!": ["-O2", "-O1", "-O0"]
            },
            "Debug": {
              "cflags_cc": ["-O1", "-g", "-fno-omit-frame-pointer"]
            }
          }
        }],
        ["navws_sanitize=='1'", {
          "cflags_cc": ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}
